import Testing

@Test func ScenariosTestsBuilds() {}
