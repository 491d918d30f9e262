using System.Buffers;
using System.Text.Unicode;

namespace SharpLM.IO;

/// <summary>
/// Reads strict UTF-8 text: invalid bytes raise <see cref="InvalidDataException"/> naming the byte offset
/// instead of turning silently into U+FFFD, so a corpus that is not UTF-8 is rejected with a position to look
/// at. A byte order mark is kept as U+FEFF text (the tokenizer must round-trip every byte). Exposes how many
/// bytes were consumed so far for progress reports.
/// </summary>
public sealed class Utf8TextReader : TextReader
{
    readonly Stream _stream;
    readonly bool _ownsStream;
    readonly string _sourceName;
    readonly byte[] _bytes;
    int _byteStart;
    int _byteEnd;
    long _bytesDecoded;
    bool _endOfStream;
    readonly char[] _chars;
    int _charStart;
    int _charEnd;

    public Utf8TextReader(Stream stream, string sourceName, bool leaveOpen = false, int bufferSize = 1 << 16)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 16);
        _stream = stream;
        _ownsStream = !leaveOpen;
        _sourceName = sourceName;
        _bytes = new byte[bufferSize];
        _chars = new char[bufferSize];
    }

    /// <summary>Opens <paramref name="path"/>; a missing file throws <see cref="FileNotFoundException"/>.</summary>
    public static Utf8TextReader Open(string path) =>
        new(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan), path);

    /// <summary>Bytes of the source decoded so far.</summary>
    public long BytesRead => _bytesDecoded;

    public override int Peek() => FillChars() ? _chars[_charStart] : -1;

    public override int Read() => FillChars() ? _chars[_charStart++] : -1;

    public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

    public override int Read(Span<char> buffer)
    {
        if (buffer.IsEmpty || !FillChars())
        {
            return 0;
        }
        int count = Math.Min(buffer.Length, _charEnd - _charStart);
        _chars.AsSpan(_charStart, count).CopyTo(buffer);
        _charStart += count;
        return count;
    }

    /// <summary>Makes at least one decoded character available; false at the end of the stream.</summary>
    bool FillChars()
    {
        while (_charStart == _charEnd)
        {
            if (_byteStart == _byteEnd)
            {
                if (_endOfStream)
                {
                    return false;
                }
                ReadBytes();
                continue;
            }
            // At the end of the stream a truncated sequence is InvalidData; before it, NeedMoreData.
            OperationStatus status = Utf8.ToUtf16(_bytes.AsSpan(_byteStart, _byteEnd - _byteStart), _chars, out int read, out int written,
                replaceInvalidSequences: false, isFinalBlock: _endOfStream);
            _byteStart += read;
            _bytesDecoded += read;
            _charStart = 0;
            _charEnd = written;
            if (status == OperationStatus.InvalidData)
            {
                throw new InvalidDataException(
                    $"{_sourceName}: invalid UTF-8 at byte offset {_bytesDecoded}; the input must be UTF-8 text");
            }
            if (written == 0)
            {
                ReadBytes();
            }
        }
        return true;
    }

    void ReadBytes()
    {
        if (_byteStart > 0)
        {
            Array.Copy(_bytes, _byteStart, _bytes, 0, _byteEnd - _byteStart);
            _byteEnd -= _byteStart;
            _byteStart = 0;
        }
        int read = _stream.Read(_bytes, _byteEnd, _bytes.Length - _byteEnd);
        if (read == 0)
        {
            _endOfStream = true;
        }
        _byteEnd += read;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && _ownsStream)
        {
            _stream.Dispose();
        }
        base.Dispose(disposing);
    }
}
