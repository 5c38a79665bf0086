import Foundation

/// Requests whose memory is known before any work, refused when they cannot fit in half of this
/// machine's memory (instead of aborting in the allocator after minutes of work).
public enum SizeLimits {
    /// Half of the physical memory, in bytes.
    public static var budget: Double { Double(ProcessInfo.processInfo.physicalMemory) / 2 }

    /// The synthetic task keeps every example (sentence, prompt, tokens, labels; about 1 KiB each
    /// with the formatted copies `train` and `task export` make).
    public static func checkTrainSize(_ n: Int, option: String = "--train-size") throws {
        let bytesPerExample = 1024.0
        if Double(n) * bytesPerExample > budget {
            throw UserInputError("\(option) \(n) would keep about \(formatSignificant(Double(n) * bytesPerExample / 1_073_741_824, digits: 3)) GiB of examples; "
                + "at most \(Int(budget / bytesPerExample)) fit in half of this machine's memory")
        }
    }

    /// A count whose items are all kept until the end (check's and explain's instances: about
    /// 2.3 KiB each measured on eq5, 4 KiB assumed; search's restarts: about 5.4 KiB, 8 KiB assumed).
    public static func checkCount(_ n: Int, option: String, bytesEach: Double, what: String, hint: String = "") throws {
        if Double(n) * bytesEach > budget {
            throw UserInputError("\(option) \(n) would keep about \(formatSignificant(Double(n) * bytesEach / 1_073_741_824, digits: 3)) GiB of \(what); "
                + "at most \(Int(budget / bytesEach)) fit in half of this machine's memory\(hint)")
        }
    }
}
