namespace Transit.GateAgent.Hardware;

/// <summary>Buzzer sounds.</summary>
public enum Beep
{
    /// <summary>One short beep.</summary>
    Accept,

    /// <summary>Two short beeps.</summary>
    Refuse,
}
