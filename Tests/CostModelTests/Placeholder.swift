import Testing

@Test func CostModelTestsBuilds() {}
