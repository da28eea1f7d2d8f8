// CPUExecutor module
