import Foundation
import Testing
import Reports
import TestSupport

/// `GitCommit` reads a checkout's commit from git's files (loose refs, packed refs, detached HEAD,
/// worktrees) without running git; each case is built here from scratch.
@Suite("git commit of the checkout")
struct GitCommitTests {
    let a = String(repeating: "a", count: 40), b = String(repeating: "b", count: 40)

    func write(_ text: String, _ url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    @Test func looseRefFromAFolderBelowTheCheckout() throws {
        let root = try makeTemporaryDirectory("git-loose")
        try write("ref: refs/heads/main\n", root.appendingPathComponent(".git/HEAD"))
        try write(a + "\n", root.appendingPathComponent(".git/refs/heads/main"))
        let below = root.appendingPathComponent(".build/release")
        try FileManager.default.createDirectory(at: below, withIntermediateDirectories: true)
        #expect(GitCommit.commit(above: below) == a)
    }

    @Test func packedRefAndDetachedHead() throws {
        let root = try makeTemporaryDirectory("git-packed")
        try write("ref: refs/heads/main\n", root.appendingPathComponent(".git/HEAD"))
        try write("# pack-refs with: peeled fully-peeled sorted\n\(b) refs/heads/other\n\(a) refs/heads/main\n",
                  root.appendingPathComponent(".git/packed-refs"))
        #expect(GitCommit.commit(above: root) == a)
        try write(b + "\n", root.appendingPathComponent(".git/HEAD"))
        #expect(GitCommit.commit(above: root) == b)
    }

    @Test func worktreeFileAndCommonDir() throws {
        let root = try makeTemporaryDirectory("git-worktree")
        let main = root.appendingPathComponent("main/.git"), wt = root.appendingPathComponent("wt")
        try write("ref: refs/heads/feature\n", main.appendingPathComponent("worktrees/wt/HEAD"))
        try write("../..\n", main.appendingPathComponent("worktrees/wt/commondir"))
        try write(b + "\n", main.appendingPathComponent("refs/heads/feature"))
        try write("gitdir: \(main.path)/worktrees/wt\n", wt.appendingPathComponent(".git"))
        #expect(GitCommit.commit(above: wt) == b)
    }

    @Test func noRepositoryOrABrokenOneGivesNil() throws {
        let root = try makeTemporaryDirectory("git-none")
        #expect(GitCommit.commit(above: URL(fileURLWithPath: "/")) == nil)
        try write("ref: refs/heads/main\n", root.appendingPathComponent(".git/HEAD"))
        try write("not a commit\n", root.appendingPathComponent(".git/refs/heads/main"))
        #expect(GitCommit.commit(above: root) == nil)
        #expect(GitCommit.lookUp(environment: ["SFTRL_COMMIT": a]) == a)
        #expect(!GitCommit.isCommit("A" + String(a.dropFirst())))
    }
}
