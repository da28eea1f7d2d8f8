import Testing

@Test func GGUFTestsBuilds() {}
