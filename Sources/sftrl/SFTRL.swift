import ArgumentParser

@main
struct SFTRL: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sftrl", abstract: "placeholder")
}
