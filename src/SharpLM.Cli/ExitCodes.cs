namespace SharpLM.Cli;

/// <summary>Process exit codes of the sharplm command.</summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>A bug in SharpLM: an exception nobody expected.</summary>
    public const int InternalError = 1;

    /// <summary>The command line could not be parsed (unknown option, missing value).</summary>
    public const int UsageError = 2;

    /// <summary>The input was wrong: missing file, bad value, corrupt data.</summary>
    public const int InputError = 3;

    /// <summary>Stopped by Ctrl+C after saving what could be saved.</summary>
    public const int Interrupted = 130;
}
