using SharpLM.Distributed;

namespace SharpLM.Cli.Training;

/// <summary>
/// Runs a verb as one rank of an MPI job: joins the job, lets rank 0 alone print, and turns an error on any rank
/// into the end of the whole job (MPI_Abort), since the other ranks would otherwise wait for it forever.
/// </summary>
internal static class MpiJob
{
    public static int Run(LaunchedWorld world, TextWriter output, TextWriter error, Func<IProcessGroup, TextWriter, int> work)
    {
        MpiProcessGroup group;
        try
        {
            group = MpiProcessGroup.Start(world);
        }
        catch (DllNotFoundException missing)
        {
            error.WriteLine($"error: {missing.Message}");
            return ExitCodes.InputError;
        }
        using (group)
        {
            try
            {
                return work(group, group.Rank == 0 ? output : TextWriter.Null);
            }
            catch (Exception exception)
            {
                error.WriteLine($"error: rank {group.Rank} on {Environment.MachineName}: {CliApp.Describe(exception).ReplaceLineEndings(" ")}");
                error.Flush();
                int code = CliApp.IsUserError(exception) ? ExitCodes.InputError : ExitCodes.InternalError;
                group.Abort(code);
                return code;
            }
        }
    }
}
