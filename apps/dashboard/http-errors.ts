import { AppError } from '../core/domain/errors.js';

/** An error whose message is safe to show the client, with the status to answer. */
export class HttpError extends AppError {
  constructor(
    readonly statusCode: number,
    code: string,
    message: string,
  ) {
    super(code, message);
  }
}

export const badRequest = (message: string) => new HttpError(400, 'BAD_REQUEST', message);
export const notFound = (message: string) => new HttpError(404, 'NOT_FOUND', message);
export const tooLarge = (message: string) => new HttpError(413, 'PAYLOAD_TOO_LARGE', message);
export const unavailable = (message: string) => new HttpError(503, 'UNAVAILABLE', message);
