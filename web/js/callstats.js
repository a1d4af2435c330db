// How well a call's connection to one participant is doing, read from
// `RTCPeerConnection.getStats()`: the round-trip time of the candidate pair in
// use and the share of incoming packets lost since the previous reading. No DOM.

/** @typedef {'good' | 'fair' | 'poor' | 'unknown'} Quality */

/**
 * What one reading of a peer connection's statistics says.
 * @typedef {object} StatsReading
 * @property {number | null} rttSeconds       the selected candidate pair's current round trip
 * @property {number} packetsReceived          incoming RTP packets, all streams together
 * @property {number} packetsLost
 * @property {string | null} localCandidateType  "host", "srflx", "prflx" or "relay"
 */

/**
 * Good, fair or poor from the round trip and the loss since the previous reading.
 * @param {number | null} rttSeconds
 * @param {number} lossFraction  0 … 1
 * @returns {Quality}
 */
export function qualityOf(rttSeconds, lossFraction) {
  if (rttSeconds === null) return 'unknown';
  if (rttSeconds < 0.3 && lossFraction < 0.02) return 'good';
  if (rttSeconds < 0.6 && lossFraction < 0.08) return 'fair';
  return 'poor';
}

/**
 * Reads the figures that matter from a stats report.
 * @param {RTCStatsReport} report
 * @returns {StatsReading}
 */
export function readStats(report) {
  /** @type {Map<string, any>} */
  const byId = new Map();
  report.forEach((stat) => byId.set(stat.id, stat));
  /** @type {any} */
  let pair = null;
  for (const stat of byId.values()) {
    if (stat.type === 'transport' && stat.selectedCandidatePairId) pair = byId.get(stat.selectedCandidatePairId) ?? pair;
  }
  if (!pair) {
    for (const stat of byId.values()) {
      if (stat.type === 'candidate-pair' && stat.state === 'succeeded' && stat.nominated) pair = stat;
    }
  }
  let packetsReceived = 0;
  let packetsLost = 0;
  for (const stat of byId.values()) {
    if (stat.type === 'inbound-rtp') {
      packetsReceived += Number(stat.packetsReceived) || 0;
      packetsLost += Math.max(0, Number(stat.packetsLost) || 0);
    }
  }
  const local = pair ? byId.get(pair.localCandidateId) : null;
  return {
    rttSeconds: pair && typeof pair.currentRoundTripTime === 'number' ? pair.currentRoundTripTime : null,
    packetsReceived,
    packetsLost,
    localCandidateType: local && typeof local.candidateType === 'string' ? local.candidateType : null,
  };
}

/**
 * The quality between two readings of the same connection.
 * @param {StatsReading | null} before
 * @param {StatsReading} now
 * @returns {Quality}
 */
export function qualityBetween(before, now) {
  const received = now.packetsReceived - (before?.packetsReceived ?? 0);
  const lost = now.packetsLost - (before?.packetsLost ?? 0);
  const expected = received + lost;
  return qualityOf(now.rttSeconds, expected > 0 ? lost / expected : 0);
}
