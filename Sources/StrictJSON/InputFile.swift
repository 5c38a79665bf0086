import Foundation

/// Input files, where `-` means standard input (issue 24): `--instance -`, `--text-file -` and the
/// data files read the bytes piped in. Standard input is read once and kept, so a command that
/// reads its input in `validate()` and again in `run()` sees the same bytes.
public enum InputFile {
    /// Everything on standard input, read on first use.
    public static let standardInput: Data = FileHandle.standardInput.readDataToEndOfFile()

    /// Whether `url` was made from the path `-`.
    public static func isStandardInput(_ url: URL) -> Bool { url.relativePath == "-" }

    /// The bytes of `url` (standard input for `-`), or nil when the file cannot be read.
    public static func read(_ url: URL) -> Data? {
        if isStandardInput(url) { return standardInput }
        return FileManager.default.contents(atPath: url.path)
    }
}
