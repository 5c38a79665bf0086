import ArgumentParser

/// The root command. Each subcommand lives in its own file (`CheckCommand.swift`, ...).
@main
struct SFTRL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sftrl",
        abstract: "Numerical evidence for the non-decoupling of SFT and RL in post-training (arXiv:2601.07389).",
        version: sftrlVersion,
        subcommands: [
            TrainCommand.self,
            LMCommand.self,
        ]
    )
}

/// The toolkit's version, recorded in every manifest and report.
let sftrlVersion = "0.1.0"
