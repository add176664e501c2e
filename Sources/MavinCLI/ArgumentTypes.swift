import ArgumentParser
import Diffusion
import Engine
import Media

// The engine's enums as option values: parsed by their raw values, listed in --help, refused with the valid ones.
extension InfillMode: ExpressibleByArgument {}
extension Fit: ExpressibleByArgument {}
extension Masking: ExpressibleByArgument {}
extension Prediction: ExpressibleByArgument {}
