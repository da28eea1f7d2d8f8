import Testing

@Test func ServingTestsBuilds() {}
