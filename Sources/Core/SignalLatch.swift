import Dispatch
import Foundation

/// Catches the signals that would end the process (`PartialFiles.endingSignals`) for a program that polls for
/// them (the Studio's key loop): the first to arrive is kept, and the program ends in its own time, with
/// `PartialFiles.endBySignal`.
public final class SignalLatch: @unchecked Sendable {
    private let lock = NSLock()
    private var first: Int32?
    private var sources: [DispatchSourceSignal] = []

    public init(_ numbers: [Int32] = PartialFiles.endingSignals) {
        for number in numbers {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.keep(number) }
            source.resume()
            sources.append(source)
        }
    }

    /// Keeps `number` as if it had arrived (a hang-up the program noticed itself: its terminal closed).
    public func keep(_ number: Int32) {
        lock.lock()
        if first == nil { first = number }
        lock.unlock()
    }

    /// The first signal caught, if any.
    public var caught: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return first
    }
}
