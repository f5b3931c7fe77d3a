/** Announces matches held for review (the `match-review` queue). Job data holds the review ids only. */
export interface MatchReviewJobs {
  enqueue(reviewIds: readonly string[]): Promise<void>;
}
