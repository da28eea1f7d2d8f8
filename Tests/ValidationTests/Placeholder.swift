import Testing

@Test func ValidationTestsBuilds() {}
