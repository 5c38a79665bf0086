/// The one error type for "change your input": a bad option value, a bad file, a bad combination.
/// Its message names the option or field and what to change; the command layer prints it as
/// `error: MESSAGE` on standard error and exits with status 2, writing no output file.
/// (Library errors that are input errors by nature, such as `InstanceError` or `ClaimError`, are
/// mapped to status 2 in the same place, `SFTRL.main`.)
public struct UserInputError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
