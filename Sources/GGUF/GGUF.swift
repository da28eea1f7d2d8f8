// GGUF module
