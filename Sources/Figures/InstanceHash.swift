import Policies
import Reports

/// The SHA-256 (lowercase hex) of the instance's canonical JSON: the `sha256_canonical_json`
/// field of every manifest that names an instance.
public func canonicalJSONHash(_ file: InstanceFile) -> String { sha256Hex(file.canonicalJSONFast()) }
