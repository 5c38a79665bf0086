import Foundation
import StrictJSON
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Element types this reader converts to Float32 (and this writer writes).
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case f32 = "F32", bf16 = "BF16", f16 = "F16"

    /// Bytes per element.
    public var byteSize: Int { self == .f32 ? 4 : 2 }
}

/// A safetensors file or a model folder that cannot be used; each case names the file, the
/// tensor and what is wrong.
public enum SafetensorsError: Error, CustomStringConvertible, Equatable {
    case fileNotFound(path: String)
    case unreadable(path: String, reason: String)
    case truncated(path: String, size: Int)
    case headerBeyondFile(path: String, headerLength: UInt64, fileSize: Int)
    case invalidHeader(path: String, reason: String)
    case unknownDType(path: String, tensor: String, dtype: String)
    case sizeMismatch(path: String, tensor: String, shape: [Int], dtype: String, bytes: Int)
    case dataOutOfBounds(path: String, tensor: String, end: Int, available: Int)
    case missingTensor(path: String, tensor: String)
    case shapeMismatch(path: String, tensor: String, expected: [Int], found: [Int])
    case noWeights(directory: String)
    /// A weight is NaN or ±infinity (element `index` in row-major order).
    case nonFinite(path: String, tensor: String, index: Int, value: Float)

    public var description: String {
        switch self {
        case .fileNotFound(let p): return "\(p): file not found"
        case .unreadable(let p, let r): return "\(p): cannot read (\(r))"
        case .truncated(let p, let s):
            return "\(p): truncated: \(s) bytes, fewer than the 8-byte header length of a safetensors file"
        case .headerBeyondFile(let p, let n, let s):
            return "\(p): header length \(n) runs past the end of the file (\(s) bytes): the file is truncated or not safetensors"
        case .invalidHeader(let p, let r): return "\(p): invalid safetensors header: \(r)"
        case .unknownDType(let p, let t, let d):
            return "\(p): tensor \(t) has dtype \(d); supported: F32, BF16, F16"
        case .sizeMismatch(let p, let t, let sh, let d, let b):
            return "\(p): tensor \(t) of shape \(sh) and dtype \(d) spans \(b) bytes in data_offsets, expected \(sh.reduce(1, *) * (SafetensorsDType(rawValue: d)?.byteSize ?? 0))"
        case .dataOutOfBounds(let p, let t, let e, let a):
            return "\(p): tensor \(t) ends at data byte \(e) but the file holds only \(a) data bytes (truncated?)"
        case .missingTensor(let p, let t): return "\(p): tensor \(t) is missing"
        case .nonFinite(let p, let t, let i, let v):
            return "\(p): tensor \(t) holds a non-finite weight (\(v) at element \(i)); the checkpoint is corrupt or diverged"
        case .shapeMismatch(let p, let t, let e, let f):
            return "\(p): tensor \(t) has shape \(f), expected \(e) from config.json"
        case .noWeights(let d):
            return "\(d): no model.safetensors nor model.safetensors.index.json in this folder"
        }
    }
}

/// One tensor's entry in a safetensors header: offsets are relative to the data section.
public struct SafetensorsEntry: Sendable, Equatable {
    public let name: String
    public let dtype: SafetensorsDType
    public let shape: [Int]
    public let begin: Int
    public let end: Int
}

/// A memory-mapped safetensors file: 8-byte little-endian header length n, n bytes of JSON
/// header ({name: {dtype, shape, data_offsets: [begin, end]}}, optional "__metadata__"
/// string map), then the data section. Tensors are converted to Float32 on request; nothing is
/// copied until then.
public final class SafetensorsFile {
    public let path: String
    public let entries: [String: SafetensorsEntry]
    public let metadata: [String: String]
    private let base: UnsafeRawPointer
    private let size: Int
    private let dataStart: Int

    public init(url: URL) throws {
        path = url.path
        let fd = open(path, O_RDONLY)
        if fd < 0 {
            if errno == ENOENT { throw SafetensorsError.fileNotFound(path: path) }
            throw SafetensorsError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw SafetensorsError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        size = Int(st.st_size)
        if size < 8 { throw SafetensorsError.truncated(path: path, size: size) }
        guard let m = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), m != MAP_FAILED else {
            throw SafetensorsError.unreadable(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        base = UnsafeRawPointer(m)
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(base.load(fromByteOffset: i, as: UInt8.self)) << (8 * UInt64(i)) }
        if n > UInt64(size - 8) {
            munmap(UnsafeMutableRawPointer(mutating: base), size)
            throw SafetensorsError.headerBeyondFile(path: path, headerLength: n, fileSize: size)
        }
        dataStart = 8 + Int(n)
        do {
            (entries, metadata) = try Self.parseHeader(Data(bytes: base + 8, count: Int(n)), path: path,
                                                       available: size - 8 - Int(n))
        } catch {
            munmap(UnsafeMutableRawPointer(mutating: base), size)
            throw error
        }
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), size) }

    /// Reads the JSON header strictly (`StrictJSON`: a duplicated tensor name or a NaN is refused,
    /// not silently resolved) and checks every entry: a known dtype, whole non-negative shape and
    /// offsets, a byte span equal to the shape's size, and data inside the file.
    private static func parseHeader(_ data: Data, path: String, available: Int) throws
        -> ([String: SafetensorsEntry], [String: String]) {
        func bad(_ reason: String) -> SafetensorsError { .invalidHeader(path: path, reason: reason) }
        let root: JSONValue
        do { root = try JSONParser.parse(data) } catch let e as StrictJSONError { throw bad(e.description) }
        guard case let .object(members) = root else { throw bad("the header is not a JSON object") }
        var entries: [String: SafetensorsEntry] = [:]
        var metadata: [String: String] = [:]
        /// A whole number in 0…2⁵³ (exactly representable), else nil.
        func whole(_ x: Double) -> Int? { x >= 0 && x <= 0x1p53 && x.rounded() == x ? Int(x) : nil }
        for (name, value) in members {
            if name == "__metadata__" {
                guard case let .object(m) = value else { throw bad("__metadata__ is not an object") }
                for (k, v) in m {
                    guard case let .string(text) = v else { throw bad("__metadata__.\(k) is \(v.kindName), expected a string") }
                    metadata[k] = text
                }
                continue
            }
            let e = JSONField(value, path: JSONPath([.key(name)]))
            guard let dt = try? e.key("dtype").string(), let shapeD = try? e.key("shape").doubles(),
                  let offD = try? e.key("data_offsets").doubles() else {
                throw bad("tensor \(name) lacks dtype, shape or data_offsets (a string and two arrays of numbers)")
            }
            let shape = shapeD.compactMap(whole), off = offD.compactMap(whole)
            guard shape.count == shapeD.count, off.count == 2, offD.count == 2, off[1] >= off[0] else {
                throw bad("tensor \(name) has a bad shape \(shapeD) or data_offsets \(offD) (whole numbers ≥ 0, begin ≤ end)")
            }
            guard let dtype = SafetensorsDType(rawValue: dt) else {
                throw SafetensorsError.unknownDType(path: path, tensor: name, dtype: dt)
            }
            var bytes = dtype.byteSize, overflow = false
            for d in shape where !overflow { (bytes, overflow) = bytes.multipliedReportingOverflow(by: d) }
            if overflow { throw bad("tensor \(name) has an impossibly large shape \(shape)") }
            if off[1] - off[0] != bytes {
                throw SafetensorsError.sizeMismatch(path: path, tensor: name, shape: shape, dtype: dt, bytes: off[1] - off[0])
            }
            if off[1] > available {
                throw SafetensorsError.dataOutOfBounds(path: path, tensor: name, end: off[1], available: available)
            }
            entries[name] = SafetensorsEntry(name: name, dtype: dtype, shape: shape, begin: off[0], end: off[1])
        }
        return (entries, metadata)
    }

    /// Tensor names, sorted.
    public var tensorNames: [String] { entries.keys.sorted() }

    /// The tensor's values as Float32 (BF16 and F16 widened exactly).
    public func floats(_ name: String) throws -> [Float] {
        guard let e = entries[name] else { throw SafetensorsError.missingTensor(path: path, tensor: name) }
        let n = e.shape.reduce(1, *)
        let src = base + dataStart + e.begin
        return try [Float](unsafeUninitializedCapacity: n) { buf, count in
            let dst = buf.baseAddress!
            switch e.dtype {
            case .f32:
                UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: n * 4)
            case .bf16:
                for i in 0..<n { dst[i] = Float(bitPattern: UInt32(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16) }
            case .f16:
                for i in 0..<n { dst[i] = Float(Float16(bitPattern: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
            }
            count = n
        }.checkedFinite(path: path, tensor: name)
    }

    /// The tensor's values as bfloat16 bits, in row-major order (count = the product of its shape,
    /// checked against `shape`), handed to `take(start, bits, count)` in chunks: BF16 bits straight
    /// from the file (2-byte values, any alignment), F32 and F16 rounded to nearest even
    /// (`bf16Bits`) through a buffer of at most 65,536 values.
    public func readBF16(_ name: String, shape expected: [Int],
                         _ take: (_ start: Int, _ bits: UnsafeRawPointer, _ count: Int) -> Void) throws {
        guard let e = entries[name] else { throw SafetensorsError.missingTensor(path: path, tensor: name) }
        if expected != e.shape {
            throw SafetensorsError.shapeMismatch(path: path, tensor: name, expected: expected, found: e.shape)
        }
        let n = e.shape.reduce(1, *)
        let src = base + dataStart + e.begin
        let rounded: (Int) -> UInt16   // element j of an F32 or F16 tensor, rounded to bfloat16
        switch e.dtype {
        case .bf16:
            // Exponent bits all ones: ±infinity or NaN.
            for i in 0..<n {
                let bits = src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
                if bits & 0x7F80 == 0x7F80 {
                    throw SafetensorsError.nonFinite(path: path, tensor: name, index: i, value: Float(bitPattern: UInt32(bits) << 16))
                }
            }
            take(0, UnsafeRawPointer(src), n); return
        case .f32: rounded = { bf16Bits(src.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self)) }
        case .f16: rounded = { bf16Bits(Float(Float16(bitPattern: src.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)))) }
        }
        let chunk = 1 << 16
        let buf = UnsafeMutablePointer<UInt16>.allocate(capacity: chunk)
        defer { buf.deallocate() }
        var done = 0
        while done < n {
            let m = min(chunk, n - done)
            for i in 0..<m {
                buf[i] = rounded(done + i)
                if buf[i] & 0x7F80 == 0x7F80 {
                    throw SafetensorsError.nonFinite(path: path, tensor: name, index: done + i, value: Float(bitPattern: UInt32(buf[i]) << 16))
                }
            }
            take(done, buf, m)
            done += m
        }
    }

    /// The tensor, checked against an expected shape when given.
    public func tensor(_ name: String, shape expected: [Int]? = nil) throws -> Tensor {
        guard let e = entries[name] else { throw SafetensorsError.missingTensor(path: path, tensor: name) }
        if let expected, expected != e.shape {
            throw SafetensorsError.shapeMismatch(path: path, tensor: name, expected: expected, found: e.shape)
        }
        return Tensor(name: name, shape: e.shape, data: try floats(name))
    }
}

/// Float32 → bfloat16 bits, rounding to nearest even (NaN stays NaN).
@inlinable public func bf16Bits(_ x: Float) -> UInt16 {
    if x.isNaN { return 0x7FC0 }
    let b = x.bitPattern
    return UInt16(truncatingIfNeeded: (b &+ 0x7FFF &+ ((b >> 16) & 1)) >> 16)
}

/// Writes tensors as a safetensors file in `dtype` (F32 by default), header padded with spaces
/// to a multiple of 8 bytes, in the given order. Written to a temporary file, then renamed, so
/// a failure leaves no partial file.
public func writeSafetensors(_ tensors: [Tensor], to url: URL, dtype: SafetensorsDType = .f32,
                             metadata: [String: String] = [:]) throws {
    func quote(_ s: String) -> String {
        let d = try! JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])
        return String(String(decoding: d, as: UTF8.self).dropFirst().dropLast())
    }
    var parts: [String] = []
    if !metadata.isEmpty {
        let m = metadata.keys.sorted().map { "\(quote($0)):\(quote(metadata[$0]!))" }.joined(separator: ",")
        parts.append("\"__metadata__\":{\(m)}")
    }
    var offset = 0
    for t in tensors {
        let bytes = t.count * dtype.byteSize
        parts.append("\(quote(t.name)):{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}")
        offset += bytes
    }
    var header = Array("{\(parts.joined(separator: ","))}".utf8)
    while header.count % 8 != 0 { header.append(0x20) }
    let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
    guard FileManager.default.createFile(atPath: tmp.path, contents: nil),
          let fh = FileHandle(forWritingAtPath: tmp.path) else {
        throw SafetensorsError.unreadable(path: tmp.path, reason: "cannot create the file")
    }
    do {
        var len = UInt64(header.count).littleEndian
        try fh.write(contentsOf: Data(bytes: &len, count: 8))
        try fh.write(contentsOf: Data(header))
        for t in tensors {
            let data: Data = t.data.withUnsafeBufferPointer { p in
                switch dtype {
                case .f32: return Data(buffer: p)
                case .bf16: return p.map { bf16Bits($0) }.withUnsafeBufferPointer { Data(buffer: $0) }
                case .f16: return p.map { Float16($0).bitPattern }.withUnsafeBufferPointer { Data(buffer: $0) }
                }
            }
            try fh.write(contentsOf: data)
        }
        try fh.close()
        if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
        try FileManager.default.moveItem(at: tmp, to: url)
    } catch {
        try? fh.close()
        try? FileManager.default.removeItem(at: tmp)
        throw error
    }
}

extension Array where Element == Float {
    /// Self when every value is finite; otherwise `SafetensorsError.nonFinite` naming the tensor
    /// and the first bad element (weights are checked at load: a NaN would reach every output).
    func checkedFinite(path: String, tensor: String) throws -> [Float] {
        if let i = firstIndex(where: { !$0.isFinite }) {
            throw SafetensorsError.nonFinite(path: path, tensor: tensor, index: i, value: self[i])
        }
        return self
    }
}
