import Testing

@Test func infersimTestsBuilds() {}
