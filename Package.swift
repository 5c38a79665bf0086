// swift-tools-version: 6.0
// sftrl: numerical evidence for "On the Non-decoupling of SFT and RL in Post-training".
// Dependencies run one way (docs/ARCHITECTURE.md, enforced by ArchitectureTests): sftrl → Figures →
// (Search → Claims, Reports) → Flows → Policies → (Linalg, StrictJSON) → C shims; sftrl → Training → Transformer → Linalg.
import PackageDescription

let package = Package(
    name: "sftrl",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "sftrl", targets: ["sftrl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-numerics.git", from: "1.1.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    ],
    targets: [
        // System libraries. CGSL links libgsl only (never gslcblas: cblas_* must bind to OpenBLAS).
        .systemLibrary(name: "CGSL", path: "Sources/CGSL"),
        // LAPACK through LAPACKE's C interface (row-major): `link "lapacke"` (liblapacke-dev).
        .systemLibrary(name: "CLapacke", path: "Sources/CLapacke"),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas"),
        // GSL's minimisers behind plain C types (gsl_multimin.h pulls gsl_cblas.h, which cannot meet
        // OpenBLAS's cblas.h in one Swift module). Links libgsl only, never gslcblas.
        .target(name: "CGSLMin", path: "Sources/CGSLMin", linkerSettings: [.linkedLibrary("gsl")]),

        // sched_getaffinity (needs _GNU_SOURCE, which Swift's Glibc lacks): the CPUs a process may use.
        .target(name: "CAffinity", path: "Sources/CAffinity"),
        .target(name: "Linalg", dependencies: ["COpenBLAS", "CLapacke", "CAffinity"]),
        // Skinny products y = x·Wᵀ for inference (few rows, W read in place, Float32 or BF16 W):
        // AVX2 + FMA chosen at run time, a scalar path elsewhere (never compiled with -march flags).
        .target(name: "CKernels", path: "Sources/CKernels"),
        // Strict reading of JSON inputs: positions, duplicate keys, NaN/overflow, unknown keys.
        .target(name: "StrictJSON"),
        .target(name: "Policies", dependencies: ["Linalg", "StrictJSON", .product(name: "RealModule", package: "swift-numerics")]),
        // GRPO's semantics, defined once for Flows (exact instances) and Training (the transformer):
        // advantage scaling, loss aggregation, KL estimators and placement, the clipped surrogate.
        .target(name: "PostTraining", dependencies: [.product(name: "RealModule", package: "swift-numerics")]),
        .target(name: "Flows", dependencies: ["CGSL", "Linalg", "Policies", "PostTraining"]),
        .target(name: "Reports", dependencies: []),
        .target(name: "Claims", dependencies: ["Linalg", "Policies", "Flows", .product(name: "RealModule", package: "swift-numerics")]),
        .target(name: "Search", dependencies: ["CGSLMin", "Linalg", "Policies", "Flows", "Claims"]),
        // The verified tier: interval arithmetic with outward rounding and branch-and-bound over boxes of small instances.
        .target(name: "Verified", dependencies: ["Policies", "Claims"]),
        .target(name: "Transformer", dependencies: ["COpenBLAS", "CKernels", "Linalg", "StrictJSON"]),
        // The post-training path on the transformer: synthetic acceptability task, SFT and GRPO trainers.
        .target(name: "Training", dependencies: ["Transformer", "Linalg", "StrictJSON", "PostTraining"]),
        // The data and SVG behind every figure folder, and the views of reports (check and search tables,
        // report merging, flow and sampled-flow files, the Pareto study's files, spectrum, explain, replay loading).
        .target(name: "Figures", dependencies: ["StrictJSON", "Policies", "Flows", "Claims", "Search", "Reports", "Training", "Transformer"]),
        // The command layer only: parse, call a library, print.
        .executableTarget(name: "sftrl", dependencies: [
            "Linalg", "StrictJSON", "Policies", "PostTraining", "Flows", "Claims", "Search", "Verified", "Transformer", "Training", "Reports", "Figures",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Helpers shared by the test targets (temporary folders, the built binary as a subprocess,
        // approximate comparisons, finite differences, the repository root). Used only by tests.
        .target(name: "TestSupport", dependencies: ["Linalg"], path: "Tests/TestSupport"),

        .testTarget(name: "LinalgTests", dependencies: ["TestSupport", "Linalg", .product(name: "Numerics", package: "swift-numerics")]),
        .testTarget(name: "PoliciesTests", dependencies: [
            "TestSupport",
            "Policies", "Linalg",
            .product(name: "Numerics", package: "swift-numerics"),
            .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
        .testTarget(name: "FlowsTests", dependencies: [
            "TestSupport",
            "Flows", "Policies", "Linalg",
            .product(name: "Numerics", package: "swift-numerics"),
        ]),
        .testTarget(name: "ReportsTests", dependencies: ["TestSupport", "Reports", "Linalg"]),
        .testTarget(name: "StrictJSONTests", dependencies: ["TestSupport", "StrictJSON"]),
        .testTarget(name: "ClaimsTests", dependencies: [
            "TestSupport",
            "Claims", "Policies", "Flows", "Linalg",
            .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
        .testTarget(name: "VerifiedTests", dependencies: ["TestSupport", "Verified", "Claims"]),
        .testTarget(name: "SearchTests", dependencies: ["TestSupport", "Search", "Claims", "Policies", "Linalg"], resources: [.copy("Counterexamples")]),
        .testTarget(name: "TransformerTests", dependencies: ["TestSupport", "Transformer", "CKernels", "Linalg"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TrainingTests", dependencies: ["TestSupport", "Training", "Transformer", "Linalg", "Flows", "Policies", "PostTraining"]),
        .testTarget(name: "FiguresTests", dependencies: ["TestSupport", "Figures", "Claims", "Flows", "Policies", "Reports", "Linalg", "StrictJSON"]),
        // The import directions of docs/ARCHITECTURE.md, read from every Sources/<Target>/*.swift.
        .testTarget(name: "ArchitectureTests", dependencies: ["TestSupport"]),
        .testTarget(name: "sftrlTests", dependencies: ["TestSupport", "sftrl"]),
    ]
)
