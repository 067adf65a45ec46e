fn main() {
    onnxruntime_provision::Config::new().version("1.22").probe().unwrap();
}
