/// The toolkit's version, recorded in every manifest and report.
public let sftrlVersion = "0.1.0"
