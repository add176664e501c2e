import Dispatch
import Foundation

/// The temporary files and folders being written right now (AtomicOutput's `.NAME.partial-…`, a PNG folder
/// under construction), so that Ctrl-C, SIGTERM or SIGHUP removes them before the process ends instead of
/// leaving hidden litter beside the output.
///
/// One registry per process, because a signal is delivered to the process, not to one job.
public enum PartialFiles {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var paths: Set<String> = []
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    nonisolated(unsafe) private static var dying = false

    /// Notes `path` as in flight; it is removed (file or folder) if a handled signal arrives before `done`.
    public static func register(_ path: String) {
        lock.lock()
        // After a signal the process is about to end: nothing new may start.
        while dying {
            lock.unlock()
            pause()
            lock.lock()
        }
        paths.insert(path)
        lock.unlock()
    }

    /// The path was committed or discarded: no longer ours to remove.
    public static func done(_ path: String) {
        lock.lock()
        paths.remove(path)
        lock.unlock()
    }

    /// What is in flight now (for tests).
    public static var inFlight: Set<String> {
        lock.lock()
        defer { lock.unlock() }
        return paths
    }

    /// The signals that end a process by default and that a user or the system sends: Ctrl-C, kill, a closed
    /// terminal, the user and timer signals, and Ctrl-\ (SIGQUIT: without us Swift's backtracer printed a crash
    /// report and the job went on to write its output). Not SIGPIPE: caught like these, a `kill -PIPE` sent by the
    /// signal test was now and then never handled (2 of 4 runs under `nohup`: the job ran to its end, exit 0), a
    /// flaky test, so it is left to its default (a `kill -PIPE` can leave the partial file).
    public static let endingSignals = [SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGQUIT]

    /// Makes the `endingSignals` remove every registered path and then end the process by that signal, as it
    /// would have without us (exit status 128 + signal). Commands that handle these signals themselves (train
    /// checkpoints and stops) do not call this.
    public static func removeOnSignal() {
        lock.lock()
        defer { lock.unlock() }
        guard sources.isEmpty else { return }
        sources = catchSignals(endingSignals) { removeAllAndDie($0) }
    }

    /// Removes every registered path and ends the process by signal `number` (status 128 + number): what
    /// `removeOnSignal` does when a signal arrives, for a program that caught the signal itself (the Studio, which
    /// restores the terminal first).
    public static func endBySignal(_ number: Int32) -> Never {
        removeAllAndDie(number)
    }

    private static func removeAllAndDie(_ number: Int32) -> Never {
        lock.lock()
        dying = true
        let doomed = paths
        paths = []
        lock.unlock()
        for path in doomed { try? FileManager.default.removeItem(atPath: path) }
        // End by the signal itself, from this thread: its default action unblocked here (dispatch's threads block
        // signals), so nothing else can take it. Re-sending it to the process instead hung once in about a
        // hundred Ctrl-Cs: the signal went to dispatch's still-open reader and the process waited for ever.
        signal(number, SIG_DFL)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, number)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        raise(number)
        // Not reached when the signal ends the process; the same status as if it had, otherwise.
        _exit(128 + number)
    }
}
