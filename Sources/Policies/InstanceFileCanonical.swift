import Foundation

/// The canonical writer for the plain instance schema, for instances of millions of numbers
/// (Foundation's JSONEncoder spends seconds on them): it reproduces JSONEncoder's `.sortedKeys`
/// bytes (each Double as its shortest round-trip `description`, a trailing ".0" dropped) and is
/// used only when the file holds nothing but the fields it knows (checked by rebuilding it from
/// them and comparing), so the manifest hash is the same either way. Reading goes through the one
/// strict parser (`InstanceFile.load`).
extension InstanceFile {
    /// The bytes of ``canonicalJSON(pretty:)`` (compact form), written directly when the file holds
    /// only the fields this writer knows; identical bytes either way.
    public func canonicalJSONFast() -> Data {
        let rebuilt = InstanceFile(beta: beta, policy: PolicySpec(kind: policy.kind, features: policy.features, theta: policy.theta),
                                   prompts: prompts.map { Prompt(weight: $0.weight, data: $0.data, reward: $0.reward, reference: $0.reference, start: $0.start) })
        guard rebuilt == self, beta.isFinite, !policy.kind.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x2F || $0 >= 0x80 }) else {
            return canonicalJSON()
        }
        var out = [UInt8]()
        out.reserveCapacity(32 + prompts.reduce(0) { $0 + 20 * ($1.data.count * 4) })
        func text(_ s: String) { out.append(contentsOf: s.utf8) }
        var ok = true
        func number(_ x: Double) {
            guard x.isFinite else { ok = false; return }
            var s = x.description
            if s.hasSuffix(".0") { s.removeLast(2) }
            text(s)
        }
        func array(_ a: [Double]) {
            out.append(0x5B)
            for (i, x) in a.enumerated() {
                if i > 0 { out.append(0x2C) }
                number(x)
            }
            out.append(0x5D)
        }
        text("{\"beta\":"); number(beta)
        text(",\"policy\":{")
        if let f = policy.features {
            text("\"features\":[")
            for (i, p) in f.enumerated() {
                if i > 0 { out.append(0x2C) }
                out.append(0x5B)
                for (j, v) in p.enumerated() {
                    if j > 0 { out.append(0x2C) }
                    array(v)
                }
                out.append(0x5D)
            }
            text("],")
        }
        text("\"kind\":\"\(policy.kind)\"")
        if let t = policy.theta { text(",\"theta\":"); array(t) }
        text("},\"prompts\":[")
        for (i, p) in prompts.enumerated() {
            if i > 0 { out.append(0x2C) }
            text("{\"data\":"); array(p.data)
            if let r = p.reference { text(",\"reference\":"); array(r) }
            text(",\"reward\":"); array(p.reward)
            if let s = p.start { text(",\"start\":"); array(s) }
            text(",\"weight\":"); number(p.weight)
            out.append(0x7D)
        }
        text("]}")
        return ok ? Data(out) : canonicalJSON()
    }
}
