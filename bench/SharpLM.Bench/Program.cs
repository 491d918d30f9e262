using SharpLM.Bench;
using SharpLM.Bench.Suites;

// `dotnet run -c Release --project bench/SharpLM.Bench -- <suite>…` runs the named suites; `all` runs every one.
// Each suite prints its own markdown table. Add a suite with one line here.
var suites = new Dictionary<string, Action>(StringComparer.OrdinalIgnoreCase)
{
    ["matmul"] = MatmulPeakBenchmarks.Run,
    ["optimizer"] = OptimizerBenchmarks.Run,
    ["loss"] = LossBenchmarks.Run,
    ["clipping"] = ClippingBenchmarks.Run,
    ["tokenizer"] = TokenizerBenchmarks.Run,
    ["training"] = TrainingStepBenchmarks.Run,
    ["distributed"] = DistributedBenchmarks.Run,
    ["decode"] = DecodeBenchmarks.Run,
    ["serving"] = ServingBenchmarks.Run,
};

return BenchProgram.Run(args, suites);
