// HardwareModel module
