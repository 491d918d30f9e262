using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Text.Json;
using SharpLM.Cli.Commands;

namespace SharpLM.Cli;

/// <summary>Builds the command tree and turns user mistakes into one-line errors with an exit code.</summary>
public static class CliApp
{
    /// <summary>The name users type: the tool's command and the published executable.</summary>
    public const string CommandName = "sharplm";

    /// <summary>
    /// A plain command with RootCommand's help and version options rather than a RootCommand, whose name is fixed
    /// to the running file's, SharpLM.Cli (the assembly cannot be called sharplm beside the library SharpLM).
    /// </summary>
    public static Command CreateRootCommand() => new(CommandName, "SharpLM: train Transformer language models from scratch on TorchSharp.")
    {
        new HelpOption(),
        new VersionOption(),
        new QuickstartCommand(),
        new TrainCommand(),
        new GenerateCommand(),
        new ServeCommand(),
        new EvaluateCommand(),
        new ExportCommand(),
        new ImportCommand(),
        new ExperimentCommand(),
        new SweepCommand(),
        new CompareCommand(),
        new TokenizerCommand(),
        new TokenizeCommand(),
        new DetokenizeCommand(),
        new ModelCommand(),
        new AccountingCommand(),
    };

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = CreateRootCommand();
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var parseError in parse.Errors)
            {
                error.WriteLine($"error: {parseError.Message}");
            }
            error.WriteLine($"Run '{CommandPath(parse.CommandResult)} --help' for usage.");
            return ExitCodes.UsageError;
        }
        var configuration = new InvocationConfiguration
        {
            EnableDefaultExceptionHandler = false,
            Output = output,
            Error = error,
            // SharpLM handles Ctrl+C itself (below): System.CommandLine's handler ends the process 2 s after the
            // signal, too soon for a training step to finish and a checkpoint to be written.
            ProcessTerminationTimeout = null,
        };
        using var interrupt = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // The first Ctrl+C asks the running verb to stop cleanly; a second one ends the process at once.
            e.Cancel = !interrupt.IsCancellationRequested;
            interrupt.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return parse.InvokeAsync(configuration, interrupt.Token).GetAwaiter().GetResult();
        }
        catch (Exception exception) when (IsUserError(exception))
        {
            // One line, even for messages that span several (ArgumentOutOfRangeException adds "Actual value was ...").
            error.WriteLine($"error: {Describe(exception).ReplaceLineEndings(" ")}");
            return ExitCodes.InputError;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>The command line that reaches a command, e.g. "sharplm tokenizer train".</summary>
    static string CommandPath(CommandResult result) => result.Parent is CommandResult parent
        ? $"{CommandPath(parent)} {result.Command.Name}"
        : result.Command.Name;

    /// <summary>The message alone: ArgumentException appends " (Parameter 'x')", which the message already names.</summary>
    internal static string Describe(Exception exception) => exception is ArgumentException { ParamName: { } name } argument
        ? argument.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal)
        : exception.Message;

    /// <summary>Exceptions that describe bad input rather than a bug in SharpLM.</summary>
    internal static bool IsUserError(Exception exception) => exception is ArgumentException
        or IOException
        or InvalidDataException
        or UnauthorizedAccessException
        or FormatException
        or JsonException
        or NotSupportedException;
}
