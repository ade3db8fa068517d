import { SetMetadata } from '@nestjs/common';

/** Who is calling: the operator (ADMIN_TOKEN) or one video app (its API key). */
export type Principal = { kind: 'operator' } | { kind: 'app'; appId: string; keyId: string };

export const PUBLIC_ROUTE = 'auth:public';
export const OPERATOR_ONLY = 'auth:operator-only';

/** No credentials needed (health, docs, console assets). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/** Only the operator token may call this route; an app key gets 403. */
export const OperatorOnly = () => SetMetadata(OPERATOR_ONLY, true);
