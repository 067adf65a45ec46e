# shellcheck shell=bash
# Reading the cargo directives a probe printed, and turning the link ones into C linker flags.
# Source common.sh first.

# The directives in a file that matter for linking, normalised to the single-colon form, in order.
link_directives() {
    sed -n 's/^cargo::*\(rustc-link-search=.*\|rustc-link-lib=.*\|rustc-link-arg=.*\)$/cargo:\1/p' "$1"
}

# Fills the array named $2 with the C-driver flags for the link directives in file $1:
# link-search → -L, link-lib=dylib=X → -lX, link-arg → as is. Anything else linking-related fails.
directive_link_flags() {
    local file=$1 line value
    local -n flags=$2
    flags=()
    while IFS= read -r line; do
        case $line in
        cargo:rustc-link-search=native=* | cargo:rustc-link-search=all=*) flags+=("-L${line#*=*=}") ;;
        cargo:rustc-link-search=*=*) die "unexpected link-search kind in: $line" ;;
        cargo:rustc-link-search=*) flags+=("-L${line#cargo:rustc-link-search=}") ;;
        cargo:rustc-link-lib=dylib=*) flags+=("-l${line#cargo:rustc-link-lib=dylib=}") ;;
        cargo:rustc-link-lib=*=*) die "a C consumer cannot use: $line" ;;
        cargo:rustc-link-lib=*) flags+=("-l${line#cargo:rustc-link-lib=}") ;;
        cargo:rustc-link-arg=*)
            value=${line#cargo:rustc-link-arg=}
            flags+=("$value")
            ;;
        esac
    done < <(link_directives "$file")
    ((${#flags[@]} > 0)) || die "no link directives in $file"
}

# Fails unless the link directives in file $1 are exactly: search $2, dylib onnxruntime, and an rpath
# to $2 in DT_RPATH (--disable-new-dtags: it wins over LD_LIBRARY_PATH, see src/emit.rs).
expect_link_directives() {
    local file=$1 lib_dir=$2 expected actual
    expected=$(printf '%s\n' "cargo:rustc-link-search=native=$lib_dir" "cargo:rustc-link-lib=dylib=onnxruntime" \
        "cargo:rustc-link-arg=-Wl,--disable-new-dtags" "cargo:rustc-link-arg=-Wl,-rpath,$lib_dir")
    actual=$(link_directives "$file")
    if [[ $actual != "$expected" ]]; then
        printf 'expected:\n%s\nactual:\n%s\n' "$expected" "$actual" >&2
        die "the link directives in $file are not the expected ones"
    fi
}
