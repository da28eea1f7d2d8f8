// Serving module
