// MSBuild task compiled by RoslynCodeTaskFactory (see SharpLM.targets); it runs inside the build, so it
// needs no tool on the machine.
//
// Why: TorchSharp 0.107.0's native shim libLibTorchSharp.so was linked against GCC 13's libstdc++ and
// so lists a need for symbol version GLIBCXX_3.4.32. The only symbol it takes from that version is the
// marker std::ios_base_library_init(), which is never called. Older systems (Debian 12 ships
// GLIBCXX_3.4.30) refuse to load the library for that need alone. Marking the need weak
// (VER_FLG_WEAK in its .gnu.version_r entry) makes the loader accept its absence and changes nothing else.
//
// The task copies the shim, patches the copy and reads it back to verify the flag; the package's original
// file is never touched. It patches whatever the build machine's libstdc++ is: a published folder or a tool
// package runs on other machines, and on a system that has the version a weak need is met like a strong one.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class MakeLibTorchSharpLoadable : Task
{
    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;

    [Required] public string SourcePath { get; set; } = "";
    [Required] public string DestinationPath { get; set; } = "";
    [Required] public string VersionName { get; set; } = "";

    [Output] public bool Patched { get; set; }

    public override bool Execute()
    {
        try
        {
            byte[] shim = File.ReadAllBytes(SourcePath);
            if (NeededVersionFlags(shim).ContainsKey(VersionName))
            {
                if (SetWeakFlag(shim, VersionName) == 0)
                {
                    Log.LogError($"Could not mark {VersionName} weak in {SourcePath}.");
                    return false;
                }
                Patched = true;
                Log.LogMessage(MessageImportance.Normal, $"{Path.GetFileName(SourcePath)}: marked the need for {VersionName} weak.");
            }

            Directory.CreateDirectory(Path.GetDirectoryName(DestinationPath)!);
            string temporary = DestinationPath + ".tmp";
            File.WriteAllBytes(temporary, shim);
            if (File.Exists(DestinationPath))
            {
                File.Delete(DestinationPath);
            }
            File.Move(temporary, DestinationPath);

            // Verify what landed on disk, not what is in memory.
            var written = NeededVersionFlags(File.ReadAllBytes(DestinationPath));
            if (Patched && (!written.TryGetValue(VersionName, out ushort flags) || (flags & VerFlgWeak) == 0))
            {
                Log.LogError($"Verification failed: {DestinationPath} does not carry the weak flag on {VersionName}.");
                return false;
            }
            return true;
        }
        catch (Exception exception) when (exception is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            Log.LogError($"Preparing {SourcePath}: {exception.Message}");
            return false;
        }
    }

    // The task compiles against netstandard2.0, hence a plain struct rather than a record.
    readonly struct Section
    {
        public Section(uint type, long offset, uint link, uint info) { Type = type; Offset = offset; Link = link; Info = info; }
        public uint Type { get; }
        public long Offset { get; }
        public uint Link { get; }
        public uint Info { get; }
    }

    static List<Section> Sections(byte[] elf)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
        {
            throw new InvalidDataException("not an ELF file");
        }
        if (elf[4] != 2 || elf[5] != 1)
        {
            throw new InvalidDataException("only 64-bit little-endian ELF is supported");
        }
        long sectionTable = (long)BitConverter.ToUInt64(elf, 0x28);
        int entrySize = BitConverter.ToUInt16(elf, 0x3A);
        int count = BitConverter.ToUInt16(elf, 0x3C);
        var sections = new List<Section>(count);
        for (int i = 0; i < count; i++)
        {
            int at = checked((int)(sectionTable + (long)i * entrySize));
            sections.Add(new Section(
                BitConverter.ToUInt32(elf, at + 4),
                (long)BitConverter.ToUInt64(elf, at + 24),
                BitConverter.ToUInt32(elf, at + 40),
                BitConverter.ToUInt32(elf, at + 44)));
        }
        return sections;
    }

    static string ReadString(byte[] elf, Section strings, uint offset)
    {
        int start = checked((int)(strings.Offset + offset));
        int end = Array.IndexOf(elf, (byte)0, start);
        return Encoding.ASCII.GetString(elf, start, end - start);
    }

    /// <summary>Offsets of every Elf64_Vernaux (.gnu.version_r) with its name.</summary>
    static IEnumerable<(int Offset, string Name)> NeededVersionEntries(byte[] elf)
    {
        var sections = Sections(elf);
        foreach (var verneed in sections.Where(s => s.Type == ShtGnuVerneed))
        {
            var strings = sections[(int)verneed.Link];
            long at = verneed.Offset;
            for (uint i = 0; i < verneed.Info; i++)
            {
                int entry = checked((int)at);
                ushort auxCount = BitConverter.ToUInt16(elf, entry + 2);
                long auxAt = at + BitConverter.ToUInt32(elf, entry + 8);
                for (int j = 0; j < auxCount; j++)
                {
                    int aux = checked((int)auxAt);
                    yield return (aux, ReadString(elf, strings, BitConverter.ToUInt32(elf, aux + 8)));
                    uint auxNext = BitConverter.ToUInt32(elf, aux + 12);
                    if (auxNext == 0)
                    {
                        break;
                    }
                    auxAt += auxNext;
                }
                uint next = BitConverter.ToUInt32(elf, entry + 12);
                if (next == 0)
                {
                    break;
                }
                at += next;
            }
        }
    }

    static Dictionary<string, ushort> NeededVersionFlags(byte[] elf) =>
        NeededVersionEntries(elf).GroupBy(e => e.Name)
            .ToDictionary(g => g.Key, g => BitConverter.ToUInt16(elf, g.First().Offset + 4), StringComparer.Ordinal);

    static int SetWeakFlag(byte[] elf, string versionName)
    {
        int count = 0;
        foreach (var (offset, name) in NeededVersionEntries(elf).ToList())
        {
            if (name == versionName)
            {
                ushort flags = (ushort)(BitConverter.ToUInt16(elf, offset + 4) | VerFlgWeak);
                BitConverter.GetBytes(flags).CopyTo(elf, offset + 4);
                count++;
            }
        }
        return count;
    }
}
