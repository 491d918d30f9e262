namespace SharpLM.Data;

/// <summary>How token ids are stored in a token file: little-endian, one fixed-size integer each.</summary>
public enum TokenDType
{
    /// <summary>uint16: vocabularies of up to 65,536 tokens.</summary>
    UInt16,

    /// <summary>int32: larger vocabularies.</summary>
    Int32,
}
