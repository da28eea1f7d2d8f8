import Testing

@Test func CPUExecutorTestsBuilds() {}
