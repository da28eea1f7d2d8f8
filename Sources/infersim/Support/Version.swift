/// `infersim --version`.
enum InferSimVersion {
    static let string = "0.8.0"
}
