// A list drawn from the answer to a request is drawn from the newest request's answer
// only. Requests asked one after another may be answered out of order: a list asked
// on a preview's stop, answered after the list asked once its generation was deleted,
// drew the deleted generation back, and nothing asked again to take it away.

/** Said instead of an answer that a later request has already superseded. */
export const SUPERSEDED = Symbol('superseded');

export class NewestAnswer {
  constructor() {
    this.asked = 0;
  }

  /** What `request` (a promise) answers, or SUPERSEDED when `of` was called again
   * before it answered. Its error is thrown only while it is still the newest. */
  async of(request) {
    const asked = ++this.asked;
    try {
      const answer = await request;
      return asked === this.asked ? answer : SUPERSEDED;
    } catch (error) {
      if (asked !== this.asked) return SUPERSEDED;
      throw error;
    }
  }
}
