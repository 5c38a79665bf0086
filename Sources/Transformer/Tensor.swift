/// A named Float32 tensor, row-major, with its Hugging Face name and shape (Linear weights are
/// [out, in]). A reference type so that an optimiser can update `data` in place and the model
/// sees it at once.
public final class Tensor {
    public let name: String
    public let shape: [Int]
    public var data: [Float]

    /// Number of elements: the product of `shape`.
    public var count: Int { shape.reduce(1, *) }

    public init(name: String, shape: [Int], data: [Float]) {
        precondition(data.count == shape.reduce(1, *),
                     "tensor \(name): \(data.count) values for shape \(shape)")
        self.name = name
        self.shape = shape
        self.data = data
    }

    /// A matrix whose values are held elsewhere (a BF16 model's store): `data` is empty.
    init(emptyMatrix name: String, shape: [Int]) {
        self.name = name
        self.shape = shape
        self.data = []
    }

    /// A zero tensor of the given shape.
    public convenience init(name: String, shape: [Int]) {
        self.init(name: name, shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    /// A deep copy (same name and shape, copied values).
    public func copy() -> Tensor { Tensor(name: name, shape: shape, data: data) }
}

/// A growable raw Float buffer for activations: no bounds checks, no copy-on-write.
final class FloatBuffer {
    private(set) var ptr: UnsafeMutablePointer<Float>
    private(set) var capacity: Int

    init(_ count: Int = 0) {
        capacity = max(count, 1)
        ptr = .allocate(capacity: capacity)
        ptr.initialize(repeating: 0, count: capacity)
    }

    /// Makes room for `count` floats; the contents are undefined after a growth.
    func ensure(_ count: Int) {
        if count <= capacity { return }
        ptr.deallocate()
        capacity = count
        ptr = .allocate(capacity: count)
        ptr.initialize(repeating: 0, count: count)
    }

    func zero(_ count: Int) { ptr.update(repeating: 0, count: count) }

    deinit { ptr.deallocate() }
}
