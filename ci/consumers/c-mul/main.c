/*
 * A C consumer of the provisioned ONNX Runtime, for targets where no Rust std is installed (the aarch64
 * leg links it with aarch64-linux-gnu-gcc and runs it under qemu). It prints the library's version and
 * runs mul_1.onnx from the onnxruntime wheel (Y = X * X elementwise), checking Y exactly.
 *
 * Usage: c-mul path/to/mul_1.onnx. Exit status 0 only if everything matched.
 *
 * The wheels carry no headers, so the few C API declarations needed are written here. OrtApi is a
 * struct of function pointers that only ever grows at the end (ORT keeps it ABI-stable), so a function
 * is reached by its position. The positions below were counted from the OrtApi field list of the
 * `ort-sys` 2.0.0-rc.15 crate's bindings (src/lib.rs, `pub struct OrtApi`, generated from
 * onnxruntime_c_api.h), counting each field once: CreateEnv is field 3, Run 9, and so on.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct OrtApi OrtApi;
typedef struct OrtStatus OrtStatus; /* NULL means success */
typedef struct OrtEnv OrtEnv;
typedef struct OrtSession OrtSession;
typedef struct OrtSessionOptions OrtSessionOptions;
typedef struct OrtMemoryInfo OrtMemoryInfo;
typedef struct OrtValue OrtValue;
typedef struct OrtRunOptions OrtRunOptions;

typedef struct OrtApiBase {
    const OrtApi *(*GetApi)(uint32_t version);
    const char *(*GetVersionString)(void);
} OrtApiBase;

extern const OrtApiBase *OrtGetApiBase(void);

/* ORT_API_VERSION of 1.22 (it equals the minor version). */
enum { API_VERSION = 22 };
/* Enum values from the same bindings. */
enum { ORT_LOGGING_LEVEL_WARNING = 2, OrtArenaAllocator = 1, OrtMemTypeDefault = 0 };
enum { ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT = 1 };

/* Positions in OrtApi. */
enum {
    GET_ERROR_MESSAGE = 2,
    CREATE_ENV = 3,
    CREATE_SESSION = 7,
    RUN = 9,
    CREATE_SESSION_OPTIONS = 10,
    CREATE_TENSOR_WITH_DATA_AS_ORT_VALUE = 49,
    GET_TENSOR_MUTABLE_DATA = 51,
    CREATE_CPU_MEMORY_INFO = 69,
    RELEASE_ENV = 92,
    RELEASE_STATUS = 93,
    RELEASE_MEMORY_INFO = 94,
    RELEASE_SESSION = 95,
    RELEASE_VALUE = 96,
    RELEASE_SESSION_OPTIONS = 100,
};

typedef void (*AnyFn)(void);
static const OrtApi *api;

/* The function pointer at a position of OrtApi. */
static AnyFn fn_at(size_t index) { return ((const AnyFn *)api)[index]; }

#define CALL(index, type, ...) ((type)fn_at(index))(__VA_ARGS__)

typedef const char *(*GetErrorMessageFn)(const OrtStatus *);
typedef void (*ReleaseStatusFn)(OrtStatus *);
typedef OrtStatus *(*CreateEnvFn)(int, const char *, OrtEnv **);
typedef OrtStatus *(*CreateSessionOptionsFn)(OrtSessionOptions **);
typedef OrtStatus *(*CreateSessionFn)(const OrtEnv *, const char *, const OrtSessionOptions *, OrtSession **);
typedef OrtStatus *(*CreateCpuMemoryInfoFn)(int, int, OrtMemoryInfo **);
typedef OrtStatus *(*CreateTensorFn)(const OrtMemoryInfo *, void *, size_t, const int64_t *, size_t, int, OrtValue **);
typedef OrtStatus *(*RunFn)(OrtSession *, const OrtRunOptions *, const char *const *, const OrtValue *const *, size_t,
                            const char *const *, size_t, OrtValue **);
typedef OrtStatus *(*GetTensorMutableDataFn)(OrtValue *, void **);
typedef void (*ReleaseFn)(void *);

/* Fails the program with ORT's message when a call returned a status. */
static int check(OrtStatus *status, const char *what) {
    if (status == NULL) return 1;
    fprintf(stderr, "c-mul: %s failed: %s\n", what, CALL(GET_ERROR_MESSAGE, GetErrorMessageFn, status));
    CALL(RELEASE_STATUS, ReleaseStatusFn, status);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: c-mul MODEL.onnx\n");
        return 2;
    }
    const OrtApiBase *base = OrtGetApiBase();
    if (base == NULL) {
        fprintf(stderr, "c-mul: OrtGetApiBase() returned NULL\n");
        return 1;
    }
    printf("ONNX Runtime version: %s\n", base->GetVersionString());
    api = base->GetApi(API_VERSION);
    if (api == NULL) {
        fprintf(stderr, "c-mul: GetApi(%d) returned NULL\n", API_VERSION);
        return 1;
    }
    printf("GetApi(%d): served\n", API_VERSION);

    OrtEnv *env = NULL;
    OrtSessionOptions *options = NULL;
    OrtSession *session = NULL;
    OrtMemoryInfo *memory = NULL;
    OrtValue *x = NULL, *y = NULL;
    float x_data[6] = {1, 2, 3, 4, 5, 6};
    const float expected[6] = {1, 4, 9, 16, 25, 36};
    const int64_t shape[2] = {3, 2};
    const char *input_names[1] = {"X"}, *output_names[1] = {"Y"};
    float *y_data = NULL;
    int ok = check(CALL(CREATE_ENV, CreateEnvFn, ORT_LOGGING_LEVEL_WARNING, "c-mul", &env), "CreateEnv") &&
             check(CALL(CREATE_SESSION_OPTIONS, CreateSessionOptionsFn, &options), "CreateSessionOptions") &&
             check(CALL(CREATE_SESSION, CreateSessionFn, env, argv[1], options, &session), "CreateSession") &&
             check(CALL(CREATE_CPU_MEMORY_INFO, CreateCpuMemoryInfoFn, OrtArenaAllocator, OrtMemTypeDefault, &memory),
                   "CreateCpuMemoryInfo") &&
             check(CALL(CREATE_TENSOR_WITH_DATA_AS_ORT_VALUE, CreateTensorFn, memory, x_data, sizeof x_data, shape, 2,
                        ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &x),
                   "CreateTensorWithDataAsOrtValue") &&
             check(CALL(RUN, RunFn, session, NULL, input_names, (const OrtValue *const *)&x, 1, output_names, 1, &y),
                   "Run") &&
             check(CALL(GET_TENSOR_MUTABLE_DATA, GetTensorMutableDataFn, y, (void **)&y_data), "GetTensorMutableData");
    if (ok) {
        printf("Y = [%g, %g, %g, %g, %g, %g]\n", y_data[0], y_data[1], y_data[2], y_data[3], y_data[4], y_data[5]);
        if (memcmp(y_data, expected, sizeof expected) != 0) {
            fprintf(stderr, "c-mul: expected Y = [1, 4, 9, 16, 25, 36]\n");
            ok = 0;
        } else {
            printf("mul_1.onnx: Y == X * X, as expected\n");
        }
    }
    if (y) CALL(RELEASE_VALUE, ReleaseFn, y);
    if (x) CALL(RELEASE_VALUE, ReleaseFn, x);
    if (memory) CALL(RELEASE_MEMORY_INFO, ReleaseFn, memory);
    if (session) CALL(RELEASE_SESSION, ReleaseFn, session);
    if (options) CALL(RELEASE_SESSION_OPTIONS, ReleaseFn, options);
    if (env) CALL(RELEASE_ENV, ReleaseFn, env);
    return ok ? 0 : 1;
}
