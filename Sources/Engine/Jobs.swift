import Core
import Foundation
import MavinModel
import Metrics

/// What a running job reports, in one direction: job → event stream → whoever shows it (the CLI's progress line,
/// the Studio's state). A job's stream ends with exactly one of `finished`, `failed` and `cancelled`.
public enum JobEvent: Sendable {
    /// Work done so far: a stage ("denoising", "junction 2/3", "writing", "training", "case"), step of total, and
    /// the seconds left when known.
    case progress(stage: String, step: Int, total: Int, eta: Double?)
    /// One denoising step of an infill: x̂₀ of the frames, live CLIP-RS and the pace against the clips. In a
    /// composition, `junction` says which junction.
    case preview(InfillProgress, junction: Int?)
    /// A figure measured on the way: a training record, a validation loss.
    case score(name: String, value: Double)
    case log(String)
    case finished(JobOutcome)
    case failed(any Error)
    case cancelled

    /// Whether the stream ends here.
    public var isFinal: Bool {
        switch self {
        case .finished, .failed, .cancelled: return true
        case .progress, .preview, .score, .log: return false
        }
    }
}

/// What a job made.
public enum JobOutcome: Sendable {
    case infill(InfillResult)
    case composed(output: String, frames: Int, notices: [String])
    case trained(output: String)
    case evaluated(EvalReport)
}

/// A piece of work the runner can start: infill, compose, train, eval. `run` does the work on the runner's
/// thread, checks `cancel` between steps (throwing `EngineError.cancelled`) and reports through `emit`.
public protocol Job {
    var title: String { get }
    func run(cancel: CancelFlag, emit: @escaping @Sendable (JobEvent) -> Void) throws -> JobOutcome
}

/// One transition (`mavin infill`, the Studio's g).
public struct InfillJob: Job {
    public let infiller: Infiller
    public let request: InfillRequest
    public let title: String

    public init(infiller: Infiller, request: InfillRequest, title: String = "infill") {
        self.infiller = infiller
        self.request = request
        self.title = title
    }

    public func run(cancel: CancelFlag, emit: @escaping @Sendable (JobEvent) -> Void) throws -> JobOutcome {
        let result = try infiller.run(request, cancel: cancel) { p in
            emit(.preview(p, junction: nil))
            emit(.progress(stage: "denoising", step: p.step, total: p.total, eta: p.eta))
        }
        return .infill(result)
    }
}

/// A whole plan, every junction generated and the composition written (`mavin compose`, the Studio's export).
public struct ComposeJob: Job {
    public let composer: Composer
    public let model: MavinModel
    public let output: URL
    public let overwrite: Bool
    public var title: String { "export \(output.lastPathComponent)" }

    public init(composer: Composer, model: MavinModel, output: URL, overwrite: Bool) {
        self.composer = composer
        self.model = model
        self.output = output
        self.overwrite = overwrite
    }

    public func run(cancel: CancelFlag, emit: @escaping @Sendable (JobEvent) -> Void) throws -> JobOutcome {
        let (frames, notices) = try composer.run(model: model, output: output, overwrite: overwrite, cancel: cancel) {
            switch $0 {
            case .junction(let i, let n, let p):
                emit(.preview(p, junction: i))
                emit(.progress(stage: "junction \(i + 1)/\(n)", step: p.step, total: p.total, eta: p.eta))
            case .junctionDone(let i, let seconds, _):
                emit(.log(String(format: "junction %d generated in %.1f s", i + 1, seconds)))
            case .writing(let f, let n): emit(.progress(stage: "writing", step: f, total: n, eta: nil))
            }
        }
        return .composed(output: output.path, frames: frames, notices: notices)
    }
}

/// A training run (`mavin train`): checkpoints as it goes; cancelled, it checkpoints and stops.
public struct TrainJob: Job {
    public let options: TrainOptions
    public var title: String { "train \(options.output.lastPathComponent)" }

    public init(options: TrainOptions) { self.options = options }

    public func run(cancel: CancelFlag, emit: @escaping @Sendable (JobEvent) -> Void) throws -> JobOutcome {
        let trainer = Trainer(options: options, cancel: cancel)
        let total = options.steps
        try trainer.run(log: { emit(.log($0)) }) { r in
            emit(.progress(stage: "training", step: r.step, total: total, eta: nil))
            emit(.score(name: "loss", value: Double(r.loss)))
            if let v = r.valLoss { emit(.score(name: "valLoss", value: Double(v))) }
        }
        return .trained(output: options.output.path)
    }
}

/// An evaluation (`mavin eval`): every method on every case.
public struct EvalJob: Job {
    public let evaluator: Evaluator
    public let methods: [EvalMethod]
    public let title: String
    public let sheets: URL?

    public init(evaluator: Evaluator, methods: [EvalMethod], title: String, sheets: URL? = nil) {
        self.evaluator = evaluator
        self.methods = methods
        self.title = title
        self.sheets = sheets
    }

    public func run(cancel: CancelFlag, emit: @escaping @Sendable (JobEvent) -> Void) throws -> JobOutcome {
        let total = evaluator.cases.count
        let report = try evaluator.run(methods: methods, title: title, sheets: sheets, cancel: cancel) { i, line in
            emit(.progress(stage: "case", step: i, total: total, eta: nil))
            emit(.log(line))
        }
        return .evaluated(report)
    }
}

/// The one job runner: one job at a time, each on a thread of its own (a job computes for seconds to hours and
/// must not hold a thread of Swift's cooperative pool), cancellable, its events ending in exactly one final event.
/// The Studio starts jobs and renders their events; the CLI runs one to its end with `runToEnd`.
public actor JobRunner {
    /// The job running now.
    public struct Running: Sendable {
        public let id: Int
        public let title: String
        public let cancelFlag: CancelFlag
    }

    public enum RunnerError: Error, CustomStringConvertible {
        case busy(String)
        public var description: String {
            switch self {
            case .busy(let title): return "a job is running (\(title)); cancel it first"
            }
        }
    }

    private var running: Running?
    private var nextID = 1

    public init() {}

    public var current: Running? { running }

    /// Starts `job`; refused while another runs. `events` is called on the job's thread.
    @discardableResult
    public func start(
        _ job: any Job, cancel: CancelFlag = CancelFlag(), events: @escaping @Sendable (JobEvent) -> Void
    ) throws -> Running {
        if let running { throw RunnerError.busy(running.title) }
        let handle = Running(id: nextID, title: job.title, cancelFlag: cancel)
        nextID += 1
        running = handle
        let work = UncheckedJob(job: job)
        let thread = Thread { [weak self] in
            let final = JobRunner.execute(work.job, cancel: cancel, emit: events)
            // The runner is free before the final event is seen, so whoever sees it may start the next job.
            let done = DispatchSemaphore(value: 0)
            Task {
                await self?.ended(handle.id)
                done.signal()
            }
            done.wait()
            events(final)
        }
        // Convolutions and the U-Net recursion need more than a secondary thread's default stack.
        thread.stackSize = 16 << 20
        thread.start()
        return handle
    }

    /// Asks the running job to stop at its next step.
    public func cancel() { running?.cancelFlag.cancel() }

    private func ended(_ id: Int) { if running?.id == id { running = nil } }

    /// The work itself and its final event: `cancelled` for `EngineError.cancelled`, `failed` for other errors.
    nonisolated static func execute(_ job: any Job, cancel: CancelFlag, emit: @escaping @Sendable (JobEvent) -> Void)
        -> JobEvent
    {
        do {
            return .finished(try job.run(cancel: cancel, emit: emit))
        } catch EngineError.cancelled {
            return .cancelled
        } catch {
            return .failed(error)
        }
    }

    /// Runs `job` on a runner of its own and waits for its end (the CLI): the outcome, or its error;
    /// `EngineError.cancelled` when it was cancelled.
    public nonisolated static func runToEnd(
        _ job: any Job, cancel: CancelFlag = CancelFlag(), events: @escaping @Sendable (JobEvent) -> Void = { _ in }
    ) throws -> JobOutcome {
        let runner = JobRunner()
        let done = DispatchSemaphore(value: 0)
        let final = FinalEvent()
        let work = UncheckedJob(job: job)
        Task {
            do {
                try await runner.start(work.job, cancel: cancel) { e in
                    if e.isFinal {
                        final.set(e)
                        done.signal()
                    } else {
                        events(e)
                    }
                }
            } catch {
                final.set(.failed(error))
                done.signal()
            }
        }
        done.wait()
        switch final.value {
        case .finished(let outcome): return outcome
        case .failed(let error): throw error
        default: throw EngineError.cancelled
        }
    }
}

/// A job handed to the runner's thread, which alone uses it from then on.
private struct UncheckedJob: @unchecked Sendable {
    let job: any Job
}

/// The final event of `runToEnd`, written by the job's thread before the waiting one reads it.
private final class FinalEvent: @unchecked Sendable {
    private let lock = NSLock()
    private var event: JobEvent?
    func set(_ e: JobEvent) {
        lock.lock()
        event = e
        lock.unlock()
    }
    var value: JobEvent? {
        lock.lock()
        defer { lock.unlock() }
        return event
    }
}
