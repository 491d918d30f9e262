using SharpLM.Bench;

// Runs benchmark suites by name and prints each as a markdown table:
//   dotnet run -c Release --project bench/SharpLM.Bench -- tokenizer
// Suites register here, name → function; `--data DIR` points at the shared data if it is not at ../shared/data.
var suites = new SortedDictionary<string, Action<BenchContext>>(StringComparer.Ordinal)
{
    ["tokenizer"] = TokenizerSuite.Run,
};

var names = new List<string>();
string? dataDirectory = null;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--data" && i + 1 < args.Length)
    {
        dataDirectory = args[++i];
    }
    else
    {
        names.Add(args[i]);
    }
}
if (names.Count == 0 || names.Any(name => !suites.ContainsKey(name)))
{
    Console.Error.WriteLine($"usage: SharpLM.Bench [--data DIR] SUITE...   suites: {string.Join(", ", suites.Keys)}");
    return 2;
}
var context = new BenchContext(dataDirectory ?? BenchContext.FindSharedData(), Console.Out);
context.PrintMachine();
foreach (string name in names)
{
    suites[name](context);
}
return 0;
