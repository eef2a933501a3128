/// MD5 (RFC 1321) of UTF-8 text, as lowercase hex. dbt hashes generic test names and arguments with MD5
/// (`hashlib.md5`); this is for matching dbt's ids, not for security.
public enum MD5 {
  private static let shifts: [UInt32] = [
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
    5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
    4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
    6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
  ]

  /// `floor(abs(sin(i + 1)) * 2^32)`
  private static let constants: [UInt32] = [
    0xd76a_a478, 0xe8c7_b756, 0x2420_70db, 0xc1bd_ceee, 0xf57c_0faf, 0x4787_c62a, 0xa830_4613, 0xfd46_9501,
    0x6980_98d8, 0x8b44_f7af, 0xffff_5bb1, 0x895c_d7be, 0x6b90_1122, 0xfd98_7193, 0xa679_438e, 0x49b4_0821,
    0xf61e_2562, 0xc040_b340, 0x265e_5a51, 0xe9b6_c7aa, 0xd62f_105d, 0x0244_1453, 0xd8a1_e681, 0xe7d3_fbc8,
    0x21e1_cde6, 0xc337_07d6, 0xf4d5_0d87, 0x455a_14ed, 0xa9e3_e905, 0xfcef_a3f8, 0x676f_02d9, 0x8d2a_4c8a,
    0xfffa_3942, 0x8771_f681, 0x6d9d_6122, 0xfde5_380c, 0xa4be_ea44, 0x4bde_cfa9, 0xf6bb_4b60, 0xbebf_bc70,
    0x289b_7ec6, 0xeaa1_27fa, 0xd4ef_3085, 0x0488_1d05, 0xd9d4_d039, 0xe6db_99e5, 0x1fa2_7cf8, 0xc4ac_5665,
    0xf429_2244, 0x432a_ff97, 0xab94_23a7, 0xfc93_a039, 0x655b_59c3, 0x8f0c_cc92, 0xffef_f47d, 0x8584_5dd1,
    0x6fa8_7e4f, 0xfe2c_e6e0, 0xa301_4314, 0x4e08_11a1, 0xf753_7e82, 0xbd3a_f235, 0x2ad7_d2bb, 0xeb86_d391,
  ]

  private static let hexDigits = Array("0123456789abcdef".utf8)

  public static func hex(_ text: String) -> String {
    var message = [UInt8]()
    message.reserveCapacity(text.utf8.count + 72)
    message.append(contentsOf: text.utf8)
    return hex(bytes: message)
  }

  /// MD5 of `message`'s bytes (padded in place: reserve 72 bytes more than the message to avoid a copy).
  public static func hex(bytes message: consuming [UInt8]) -> String {
    var message = message
    let bitLength = UInt64(message.count) &* 8
    message.append(0x80)
    while message.count % 64 != 56 { message.append(0) }
    for index in 0..<8 { message.append(UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(index)))) }

    var state: (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476)
    message.withUnsafeBufferPointer { bytes in
      shifts.withUnsafeBufferPointer { shifts in
        constants.withUnsafeBufferPointer { constants in
          withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 16) { words in
            for chunk in stride(from: 0, to: bytes.count, by: 64) {
              for index in 0..<16 {
                let base = chunk + index * 4
                words[index] =
                  UInt32(bytes[base]) | UInt32(bytes[base + 1]) << 8 | UInt32(bytes[base + 2]) << 16
                  | UInt32(bytes[base + 3]) << 24
              }
              var (a, b, c, d) = state
              // Four steps per turn with the roles of a, b, c, d fixed (no shuffling of the four words), each
              // round with its own function: the textbook unrolling.
              @inline(__always) func rotate(_ value: UInt32, _ round: Int) -> UInt32 {
                let shift = shifts[round]
                return (value << shift) | (value >> (32 &- shift))
              }
              @inline(__always) func input(_ round: Int, _ word: Int) -> UInt32 {
                constants[round] &+ words[word]
              }
              for round in stride(from: 0, to: 16, by: 4) {
                a = b &+ rotate(a &+ ((b & c) | (~b & d)) &+ input(round, round), round)
                d = a &+ rotate(d &+ ((a & b) | (~a & c)) &+ input(round + 1, round + 1), round + 1)
                c = d &+ rotate(c &+ ((d & a) | (~d & b)) &+ input(round + 2, round + 2), round + 2)
                b = c &+ rotate(b &+ ((c & d) | (~c & a)) &+ input(round + 3, round + 3), round + 3)
              }
              for round in stride(from: 16, to: 32, by: 4) {
                a = b &+ rotate(a &+ ((b & d) | (c & ~d)) &+ input(round, (5 &* round &+ 1) & 15), round)
                d =
                  a
                  &+ rotate(d &+ ((a & c) | (b & ~c)) &+ input(round + 1, (5 &* round &+ 6) & 15), round + 1)
                c =
                  d
                  &+ rotate(c &+ ((d & b) | (a & ~b)) &+ input(round + 2, (5 &* round &+ 11) & 15), round + 2)
                b =
                  c
                  &+ rotate(b &+ ((c & a) | (d & ~a)) &+ input(round + 3, (5 &* round &+ 16) & 15), round + 3)
              }
              for round in stride(from: 32, to: 48, by: 4) {
                a = b &+ rotate(a &+ (b ^ c ^ d) &+ input(round, (3 &* round &+ 5) & 15), round)
                d = a &+ rotate(d &+ (a ^ b ^ c) &+ input(round + 1, (3 &* round &+ 8) & 15), round + 1)
                c = d &+ rotate(c &+ (d ^ a ^ b) &+ input(round + 2, (3 &* round &+ 11) & 15), round + 2)
                b = c &+ rotate(b &+ (c ^ d ^ a) &+ input(round + 3, (3 &* round &+ 14) & 15), round + 3)
              }
              for round in stride(from: 48, to: 64, by: 4) {
                a = b &+ rotate(a &+ (c ^ (b | ~d)) &+ input(round, (7 &* round) & 15), round)
                d = a &+ rotate(d &+ (b ^ (a | ~c)) &+ input(round + 1, (7 &* round &+ 7) & 15), round + 1)
                c = d &+ rotate(c &+ (a ^ (d | ~b)) &+ input(round + 2, (7 &* round &+ 14) & 15), round + 2)
                b = c &+ rotate(b &+ (d ^ (c | ~a)) &+ input(round + 3, (7 &* round &+ 21) & 15), round + 3)
              }
              state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d)
            }
          }
        }
      }
    }
    let digest = (state.0.littleEndian, state.1.littleEndian, state.2.littleEndian, state.3.littleEndian)
    return withUnsafeBytes(of: digest) { bytes in
      String(unsafeUninitializedCapacity: 32) { output in
        for (index, byte) in bytes.enumerated() {
          output[2 * index] = hexDigits[Int(byte >> 4)]
          output[2 * index + 1] = hexDigits[Int(byte & 0x0F)]
        }
        return 32
      }
    }
  }
}
