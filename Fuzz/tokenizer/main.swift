// libFuzzer executable for the `tokenizer` parser: see FuzzTargets and scripts/fuzz.sh.
import CLibFuzzer
import CPUExecutor
import Foundation
import FuzzTargets
import GGUF

// The tokenizer comes from $INFERSIM_FUZZ_TOKENIZER (a GGUF file; scripts/fuzz.sh passes the
// corpus's seed GGUF).
let tokenizerPath = ProcessInfo.processInfo.environment["INFERSIM_FUZZ_TOKENIZER"] ?? "Fuzz/corpus/gguf/tiny-llama.gguf"
FuzzTargets.tokenizerFixture = try BPETokenizer(gguf: GGUFFile(path: tokenizerPath))

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { start, count in
    FuzzTargets.run(.tokenizer, start.map { Data(bytes: $0, count: count) } ?? Data())
    return 0
})
