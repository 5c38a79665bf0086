import Foundation

/// The built `sftrl` executable and a way to run it as a user would: a subprocess with its own
/// working folder, a time limit, and its exit status, signal, stdout and stderr.
public enum SFTRLBinary {
    /// The executable: `$SFTRL_BIN` if set, else the `sftrl` beside the running test bundle (the
    /// build products folder of the configuration under test, debug or release), else
    /// `.build/{release,debug}/sftrl` under the repository. Nil when none exists.
    public static let url: URL? = {
        let fm = FileManager.default
        var candidates: [URL] = []
        if let env = ProcessInfo.processInfo.environment["SFTRL_BIN"], !env.isEmpty { candidates.append(URL(fileURLWithPath: env)) }
        if let exe = Bundle.main.executableURL { candidates.append(exe.resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("sftrl")) }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            candidates.append(URL(fileURLWithPath: bundle.bundlePath).deletingLastPathComponent().appendingPathComponent("sftrl"))
        }
        let arg0 = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        candidates.append(arg0.deletingLastPathComponent().appendingPathComponent("sftrl"))
        for config in ["release", "debug"] {
            candidates.append(repositoryRoot.appendingPathComponent(".build/\(config)/sftrl"))
        }
        return candidates.first { fm.isExecutableFile(atPath: $0.path) }
    }()

    /// What one run did.
    public struct Result: Sendable, CustomStringConvertible {
        /// The exit status (when `signal` is nil).
        public var status: Int32
        /// The signal that ended the process (a crash: SIGILL/SIGTRAP for a Swift fatal error,
        /// SIGSEGV, SIGABRT), or SIGKILL after the time limit (`timedOut`).
        public var signal: Int32?
        public var timedOut: Bool
        public var stdout: String
        public var stderr: String
        public var seconds: Double

        public var description: String {
            let how = timedOut ? "timed out" : signal.map { "killed by signal \($0)" } ?? "exit \(status)"
            return "\(how) after \(String(format: "%.2f", seconds)) s; stderr: \(stderr.prefix(600))"
        }
    }

    /// Runs `sftrl args…` in `directory` with at most `timeout` seconds (then SIGKILL). Output goes
    /// to files, not pipes, so a chatty process cannot block on a full pipe.
    public static func run(_ args: [String], in directory: URL, timeout: Double = 20,
                           environment: [String: String] = [:]) throws -> Result {
        guard let exe = url else { throw BinaryMissing() }
        let p = Process()
        p.executableURL = exe
        p.arguments = args
        p.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_NUM_THREADS"] = "1"
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let tag = UUID().uuidString
        let outURL = FileManager.default.temporaryDirectory.appendingPathComponent("sftrl-run-\(tag).out")
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("sftrl-run-\(tag).err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outURL); try? FileManager.default.removeItem(at: errURL) }
        let outHandle = try FileHandle(forWritingTo: outURL), errHandle = try FileHandle(forWritingTo: errURL)
        p.standardOutput = outHandle
        p.standardError = errHandle
        p.standardInput = FileHandle.nullDevice
        let started = Date()
        try p.run()
        var timedOut = false
        while p.isRunning {
            if Date().timeIntervalSince(started) > timeout {
                timedOut = true
                kill(p.processIdentifier, SIGKILL)
                break
            }
            usleep(5_000)
        }
        p.waitUntilExit()
        try? outHandle.close(); try? errHandle.close()
        let read = { (u: URL) in String(decoding: (try? Data(contentsOf: u)) ?? Data(), as: UTF8.self) }
        let signaled = p.terminationReason == .uncaughtSignal
        return Result(status: signaled ? -1 : p.terminationStatus, signal: signaled ? p.terminationStatus : nil,
                      timedOut: timedOut, stdout: read(outURL), stderr: read(errURL),
                      seconds: Date().timeIntervalSince(started))
    }

    public struct BinaryMissing: Error, CustomStringConvertible {
        public var description: String {
            "the sftrl executable was not found beside the test bundle nor under .build/; build it (swift build) or set SFTRL_BIN"
        }
    }
}
