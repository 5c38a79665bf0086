/// GPT-2's byte-level alphabet: a bijection between the 256 byte values and 256 printable
/// Unicode scalars, so that any UTF-8 text becomes a string of visible symbols for BPE.
///
/// Bytes '!'…'~' (0x21–0x7E), '¡'…'¬' (0xA1–0xAC) and '®'…'ÿ' (0xAE–0xFF) map to the scalar of
/// the same value; the remaining 68 bytes (controls, space, DEL, NBSP, soft hyphen, …) map in
/// increasing order to U+0100, U+0101, …  So a space (0x20) is 'Ġ' (U+0120) and a newline
/// (0x0A) is 'Ċ' (U+010A).
public enum ByteLevel {
    /// byteToScalar[b] is the symbol of byte b.
    public static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The inverse map: the byte of a symbol, nil for scalars outside the alphabet.
    public static let scalarToByte: [UInt32: UInt8] = {
        var m: [UInt32: UInt8] = [:]
        for (b, s) in byteToScalar.enumerated() { m[s.value] = UInt8(b) }
        return m
    }()

    /// The symbols of the UTF-8 bytes of `text`.
    public static func encode<S: Sequence>(bytes: S) -> String where S.Element == UInt8 {
        var v = String.UnicodeScalarView()
        for b in bytes { v.append(byteToScalar[Int(b)]) }
        return String(v)
    }

    /// The bytes of a string of symbols; nil when a scalar is not a byte symbol.
    public static func decode(_ symbols: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(symbols.unicodeScalars.count)
        for s in symbols.unicodeScalars {
            guard let b = scalarToByte[s.value] else { return nil }
            out.append(b)
        }
        return out
    }
}
