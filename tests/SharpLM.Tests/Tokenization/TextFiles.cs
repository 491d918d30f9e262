using System.Text;

namespace SharpLM.Tests.Tokenization;

/// <summary>
/// Every text file in ../shared/data (valid UTF-8 without NUL bytes: the models and GGUF vocabularies there are
/// binary), as paths relative to it, for theories. Of the 398 Gutenberg books (150 MB, a training corpus) the first
/// stands for the rest: four theories over all of them would take minutes of every test run.
/// </summary>
public static class TextFiles
{
    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static TheoryData<string> All()
    {
        var data = new TheoryData<string>();
        if (SharedData.Directory is null)
        {
            data.Add("(none)");
            return data;
        }
        bool bookTaken = false;
        foreach (string path in Directory.EnumerateFiles(SharedData.Directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string relative = Path.GetRelativePath(SharedData.Directory, path);
            bool isBook = relative.StartsWith(Path.Combine("gutenberg", "books") + Path.DirectorySeparatorChar, StringComparison.Ordinal);
            if ((isBook && bookTaken) || !IsText(path))
            {
                continue;
            }
            bookTaken |= isBook;
            data.Add(relative);
        }
        return data;
    }

    static bool IsText(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (Array.IndexOf(bytes, (byte)0) >= 0)
        {
            return false;
        }
        try
        {
            StrictUtf8.GetCharCount(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }
}
