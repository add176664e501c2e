import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// Runs an external program (ffmpeg, ffprobe, tmux, chafa) with a deadline.
///
/// Foundation's `Process.waitUntilExit` relies on a SIGCHLD source that does not
/// fire under some parents (seen as a hang in CI), so this polls `waitpid`
/// instead; stdin is /dev/null, and output capture stops when the child exits,
/// so a daemon that keeps the pipe open cannot block us.
public struct Subprocess {
    public struct Result: Sendable {
        public var status: Int32
        public var output: String
        public var timedOut: Bool
    }

    public static func which(_ program: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(dir)/\(program)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Runs `arguments[0]` (looked up in PATH) and returns its exit status and combined output.
    @discardableResult
    public static func run(
        _ arguments: [String], timeout: Double = 120, captureOutput: Bool = true,
        environment: [String: String]? = nil
    ) throws -> Result {
        guard let program = arguments.first else { throw FileError.writeFailed("", reason: "empty command") }
        var fds: [Int32] = [-1, -1]
        if captureOutput { guard pipe(&fds) == 0 else { throw FileError.writeFailed(program, reason: "pipe failed") } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if captureOutput {
            posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
            posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
            posix_spawn_file_actions_addclose(&actions, fds[0])
        }
        var env = environment ?? ProcessInfo.processInfo.environment
        if environment != nil { env.merge(ProcessInfo.processInfo.environment) { mine, _ in mine } }
        let envStrings = env.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let cArgs = arguments.map { strdup($0) } + [nil]
        let cEnv = envStrings.map { strdup($0) } + [nil]
        defer {
            cArgs.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        let rc = posix_spawnp(&pid, program, &actions, nil, cArgs, cEnv)
        if captureOutput { close(fds[1]) }
        guard rc == 0 else {
            if captureOutput { close(fds[0]) }
            throw FileError.writeFailed(program, reason: "cannot start '\(program)': \(String(cString: strerror(rc)))")
        }
        var output = Data()
        if captureOutput { _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        var timedOut = false
        func drain() {
            guard captureOutput else { return }
            while true {
                let n = read(fds[0], &buffer, buffer.count)
                if n <= 0 { break }
                output.append(contentsOf: buffer[0..<n])
            }
        }
        while true {
            drain()
            let w = waitpid(pid, &status, WNOHANG)
            if w == pid { break }
            if w < 0 && errno != EINTR { break }
            if Date() > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                timedOut = true
                break
            }
            usleep(5_000)
        }
        drain()
        if captureOutput { close(fds[0]) }
        let exitCode: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return Result(
            status: timedOut ? 124 : exitCode, output: String(decoding: output, as: UTF8.self), timedOut: timedOut)
    }
}
