import Testing

@Test func DiscreteEventTestsBuilds() {}
