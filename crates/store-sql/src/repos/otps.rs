use crate::error::StoreError;
use crate::models::OtpRow;
use crate::schema::otp_challenges as otp;
use crate::store::Store;
use crate::time::to_micros;
use async_trait::async_trait;
use chitchat_domain::auth::OtpChallenge;
use chitchat_domain::ports::OtpRepo;
use chitchat_domain::user::Phone;
use chitchat_domain::DomainResult;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;

#[async_trait]
impl OtpRepo for Store {
    async fn put_unless_recent(&self, challenge: &OtpChallenge, cutoff: DateTime<Utc>) -> DomainResult<bool> {
        let row = OtpRow::from(challenge);
        let cutoff = to_micros(cutoff);
        // Check and write in one statement: a pending challenge newer than the
        // cutoff makes the update a no-op, and then no row is returned.
        let stored: Option<String> = db_run!(self, |conn| {
            let upsert = diesel::insert_into(otp::table).values(&row).on_conflict(otp::phone).do_update().set((
                otp::code_hash.eq(excluded(otp::code_hash)),
                otp::expires_at.eq(excluded(otp::expires_at)),
                otp::attempts.eq(excluded(otp::attempts)),
                otp::created_at.eq(excluded(otp::created_at)),
            ));
            // `ON CONFLICT … DO UPDATE … WHERE`, the same on both backends.
            diesel::query_dsl::methods::FilterDsl::filter(upsert, otp::created_at.le(cutoff))
                .returning(otp::phone)
                .get_result(conn)
                .await
                .optional()
                .map_err(StoreError::from)?
        });
        Ok(stored.is_some())
    }

    async fn get(&self, phone: &Phone) -> DomainResult<Option<OtpChallenge>> {
        let phone = phone.as_str().to_owned();
        let row: Option<OtpRow> = db_run!(self, |conn| {
            otp::table
                .find(phone.as_str())
                .select(OtpRow::as_select())
                .first(conn)
                .await
                .optional()
                .map_err(StoreError::from)?
        });
        Ok(row.map(OtpChallenge::try_from).transpose()?)
    }

    async fn reserve_attempt(&self, phone: &Phone, max_attempts: i32) -> DomainResult<Option<OtpChallenge>> {
        let phone = phone.as_str().to_owned();
        let row: Option<OtpRow> = db_run!(self, |conn| {
            diesel::update(otp::table.find(phone.as_str()).filter(otp::attempts.lt(max_attempts)))
                .set(otp::attempts.eq(otp::attempts + 1))
                .returning(OtpRow::as_returning())
                .get_result(conn)
                .await
                .optional()
                .map_err(StoreError::from)?
        });
        Ok(row.map(OtpChallenge::try_from).transpose()?)
    }

    async fn consume(&self, phone: &Phone, code_hash: &str, max_attempts: i32) -> DomainResult<bool> {
        let (phone, code_hash) = (phone.as_str().to_owned(), code_hash.to_owned());
        let deleted = db_run!(self, |conn| {
            diesel::delete(
                otp::table
                    .filter(otp::phone.eq(phone.as_str()))
                    .filter(otp::code_hash.eq(&code_hash))
                    .filter(otp::attempts.le(max_attempts)),
            )
            .execute(conn)
            .await
            .map_err(StoreError::from)?
        });
        Ok(deleted == 1)
    }
}
