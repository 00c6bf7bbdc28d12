/**
 * The errors the HTTP layer raises itself (bad input, policy, unknown ids it resolved), with the status
 * and the message the client sees. Domain errors keep their own classes; the exception filter maps both.
 * Must never carry a secret in `message`: it is sent to the client and may be logged.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string): ApiError => new ApiError(400, message);
export const notFound = (message: string): ApiError => new ApiError(404, message);
export const conflict = (message: string): ApiError => new ApiError(409, message);
export const forbidden = (message: string): ApiError => new ApiError(403, message);

/** The policy refusal in the wording of the service that owns the rule: Keystone's or Nova's. */
export const policyForbids = (rule: string): ApiError =>
  new ApiError(
    403,
    rule.startsWith('identity:')
      ? `You are not authorized to perform the requested action: ${rule}.`
      : `Policy doesn't allow ${rule} to be performed.`,
  );

/** The message keystonemiddleware answers a missing or bad token with. */
export const unauthorized = (message = 'The request you have made requires authentication.'): ApiError =>
  new ApiError(401, message);
