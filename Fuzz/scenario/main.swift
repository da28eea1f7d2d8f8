// libFuzzer executable for the `scenario` parser: see FuzzTargets and scripts/fuzz.sh.
import CLibFuzzer
import CPUExecutor
import Foundation
import FuzzTargets
import GGUF


var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { start, count in
    FuzzTargets.run(.scenario, start.map { Data(bytes: $0, count: count) } ?? Data())
    return 0
})
