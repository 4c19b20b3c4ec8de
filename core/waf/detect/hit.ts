// What a detector reports: the span of the transformed value that matched, for the explanation's snippet,
// and an optional note (a SQL fingerprint, the command word found).
export interface Hit {
  at: number;
  end: number;
  note?: string;
}
